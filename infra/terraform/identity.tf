# One user-assigned identity for both container apps. It exists before the apps, so its role assignments
# are in place when the first revision pulls the image and resolves Key Vault references.
resource "azurerm_user_assigned_identity" "baton" {
  name                = "id-${local.base}"
  location            = azurerm_resource_group.baton.location
  resource_group_name = azurerm_resource_group.baton.name
  tags                = local.tags
}

# Least privilege: exactly these three roles, each scoped to the one resource it is for.

resource "azurerm_role_assignment" "identity_acr_pull" {
  scope                = azurerm_container_registry.baton.id
  role_definition_name = "AcrPull"
  principal_id         = azurerm_user_assigned_identity.baton.principal_id
  principal_type       = "ServicePrincipal"
}

resource "azurerm_role_assignment" "identity_openai_user" {
  scope                = azurerm_cognitive_account.openai.id
  role_definition_name = "Cognitive Services OpenAI User"
  principal_id         = azurerm_user_assigned_identity.baton.principal_id
  principal_type       = "ServicePrincipal"
}

resource "azurerm_role_assignment" "identity_key_vault_secrets_user" {
  scope                = azurerm_key_vault.baton.id
  role_definition_name = "Key Vault Secrets User"
  principal_id         = azurerm_user_assigned_identity.baton.principal_id
  principal_type       = "ServicePrincipal"
}
