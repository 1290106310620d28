# Azure OpenAI, reachable only with Entra ID tokens (no API keys): the container apps authenticate with the
# user-assigned identity (AZURE_CLIENT_ID) and its "Cognitive Services OpenAI User" role.
resource "azurerm_cognitive_account" "openai" {
  name                  = "oai-${local.base}-${local.suffix}"
  location              = coalesce(var.openai_location, var.location)
  resource_group_name   = azurerm_resource_group.baton.name
  kind                  = "OpenAI"
  sku_name              = "S0"
  custom_subdomain_name = "oai-${local.base}-${local.suffix}"
  local_auth_enabled    = false
  tags                  = local.tags
}

resource "azurerm_cognitive_deployment" "models" {
  for_each = var.openai_deployments

  name                   = each.key
  cognitive_account_id   = azurerm_cognitive_account.openai.id
  version_upgrade_option = each.value.version_upgrade_option

  model {
    format  = "OpenAI"
    name    = each.value.model_name
    version = each.value.model_version
  }

  sku {
    name     = each.value.sku_name
    capacity = each.value.capacity
  }
}
