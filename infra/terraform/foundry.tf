# Optional Azure AI Foundry project (enable_ai_foundry = true) for baton's `foundry` provider and
# `baton teams deploy <team> --to foundry`. @azure/ai-projects 2.x talks to a Foundry *project endpoint*,
# https://<resource>.services.ai.azure.com/api/projects/<project>, which only a project under a Foundry resource
# (a Cognitive Services account of kind AIServices with project management enabled) has; a hub-based project
# (azurerm_ai_foundry + azurerm_ai_foundry_project, a Machine Learning workspace) has none.

locals {
  foundry_subdomain = "aif-${local.base}-${local.suffix}"
  foundry_project   = "proj-${local.base}"
  # The endpoint Azure reports as the project's "AI Foundry API" endpoint; built from the names when it does not.
  foundry_project_endpoint_built = "https://${local.foundry_subdomain}.services.ai.azure.com/api/projects/${local.foundry_project}"
  foundry_project_endpoint = (
    var.enable_ai_foundry
    ? lookup(azurerm_cognitive_account_project.baton[0].endpoints, "AI Foundry API", local.foundry_project_endpoint_built)
    : null
  )
  # Foundry agents run on model deployments of the Foundry resource itself: the same ones as the OpenAI account.
  foundry_deployments = var.enable_ai_foundry ? var.openai_deployments : {}
}

resource "azurerm_cognitive_account" "foundry" {
  count = var.enable_ai_foundry ? 1 : 0

  name                       = local.foundry_subdomain
  location                   = coalesce(var.openai_location, var.location)
  resource_group_name        = azurerm_resource_group.baton.name
  kind                       = "AIServices"
  sku_name                   = "S0"
  custom_subdomain_name      = local.foundry_subdomain
  project_management_enabled = true
  # Entra ID only, like the OpenAI account: no keys to leak or rotate.
  local_auth_enabled = false
  tags               = local.tags

  # Projects can only be created under a Foundry resource with a managed identity.
  identity {
    type = "SystemAssigned"
  }
}

resource "azurerm_cognitive_account_project" "baton" {
  count = var.enable_ai_foundry ? 1 : 0

  name                 = local.foundry_project
  cognitive_account_id = azurerm_cognitive_account.foundry[0].id
  location             = azurerm_cognitive_account.foundry[0].location
  display_name         = "baton ${var.environment}"
  description          = "Foundry agents provisioned from baton team definitions (baton teams deploy)."
  tags                 = local.tags

  identity {
    type = "SystemAssigned"
  }
}

resource "azurerm_cognitive_deployment" "foundry" {
  for_each = local.foundry_deployments

  name                   = each.key
  cognitive_account_id   = azurerm_cognitive_account.foundry[0].id
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

# The apps run Foundry agents (and an operator's `baton teams deploy` may run from them): "Azure AI User" on the
# project, nothing wider.
resource "azurerm_role_assignment" "identity_foundry_user" {
  count = var.enable_ai_foundry ? 1 : 0

  scope                = azurerm_cognitive_account_project.baton[0].id
  role_definition_name = "Azure AI User"
  principal_id         = azurerm_user_assigned_identity.baton.principal_id
  principal_type       = "ServicePrincipal"
}
