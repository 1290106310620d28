# Optional Azure AI Foundry hub and project (enable_ai_foundry = true). The hub gets its own storage account
# and Key Vault so that its identity never reads baton's secrets. baton itself talks to the Azure OpenAI
# account above; connect the hub to it in the Foundry portal to evaluate or fine-tune against the same models.

resource "azurerm_storage_account" "foundry" {
  count = var.enable_ai_foundry ? 1 : 0

  name                            = "st${var.name_prefix}${var.environment}${local.suffix}"
  location                        = azurerm_resource_group.baton.location
  resource_group_name             = azurerm_resource_group.baton.name
  account_tier                    = "Standard"
  account_replication_type        = "LRS"
  min_tls_version                 = "TLS1_2"
  allow_nested_items_to_be_public = false
  tags                            = local.tags
}

resource "azurerm_key_vault" "foundry" {
  count = var.enable_ai_foundry ? 1 : 0

  name                       = "kv-${var.name_prefix}-hub-${local.suffix}"
  location                   = azurerm_resource_group.baton.location
  resource_group_name        = azurerm_resource_group.baton.name
  tenant_id                  = data.azurerm_client_config.current.tenant_id
  sku_name                   = "standard"
  rbac_authorization_enabled = true
  purge_protection_enabled   = true
  tags                       = local.tags
}

resource "azurerm_ai_foundry" "hub" {
  count = var.enable_ai_foundry ? 1 : 0

  name                    = "hub-${local.base}"
  location                = azurerm_resource_group.baton.location
  resource_group_name     = azurerm_resource_group.baton.name
  storage_account_id      = azurerm_storage_account.foundry[0].id
  key_vault_id            = azurerm_key_vault.foundry[0].id
  application_insights_id = azurerm_application_insights.baton.id
  tags                    = local.tags

  identity {
    type = "SystemAssigned"
  }
}

resource "azurerm_ai_foundry_project" "baton" {
  count = var.enable_ai_foundry ? 1 : 0

  name               = "proj-${local.base}"
  location           = azurerm_ai_foundry.hub[0].location
  ai_services_hub_id = azurerm_ai_foundry.hub[0].id
  tags               = local.tags

  identity {
    type = "SystemAssigned"
  }
}
