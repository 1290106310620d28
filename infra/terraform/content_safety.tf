# Optional Azure AI Content Safety (enable_content_safety = true) for baton's Prompt Shields and answer-analysis
# guardrails (docs/guardrails.md). Entra ID only, like the OpenAI account: the worker authenticates with the
# user-assigned identity (AZURE_CLIENT_ID) and its "Cognitive Services User" role on this account alone.
resource "azurerm_cognitive_account" "content_safety" {
  count = var.enable_content_safety ? 1 : 0

  name                  = "cs-${local.base}-${local.suffix}"
  location              = coalesce(var.content_safety_location, var.location)
  resource_group_name   = azurerm_resource_group.baton.name
  kind                  = "ContentSafety"
  sku_name              = "S0"
  custom_subdomain_name = "cs-${local.base}-${local.suffix}"
  local_auth_enabled    = false
  tags                  = local.tags
}

resource "azurerm_role_assignment" "identity_content_safety_user" {
  count = var.enable_content_safety ? 1 : 0

  scope                = azurerm_cognitive_account.content_safety[0].id
  role_definition_name = "Cognitive Services User"
  principal_id         = azurerm_user_assigned_identity.baton.principal_id
  principal_type       = "ServicePrincipal"
}
