# Secrets live here and reach the container apps only as Key Vault references resolved by the managed
# identity; Terraform never writes a secret into a container app definition.
resource "azurerm_key_vault" "baton" {
  name                       = "kv-${var.name_prefix}-${local.suffix}"
  location                   = azurerm_resource_group.baton.location
  resource_group_name        = azurerm_resource_group.baton.name
  tenant_id                  = data.azurerm_client_config.current.tenant_id
  sku_name                   = "standard"
  rbac_authorization_enabled = true
  purge_protection_enabled   = true
  soft_delete_retention_days = 90
  tags                       = local.tags
}

# The principal running Terraform writes the secrets below (a data-plane permission under RBAC).
resource "azurerm_role_assignment" "deployer_key_vault_secrets_officer" {
  scope                = azurerm_key_vault.baton.id
  role_definition_name = "Key Vault Secrets Officer"
  principal_id         = data.azurerm_client_config.current.object_id
}

# The first admin key is generated here, never typed into a file. Read it with
#   az keyvault secret show --vault-name <vault> --name baton-api-keys --query value -o tsv
# Rotation adds new versions to the secret outside Terraform (docs/operations.md), hence ignore_changes.
resource "random_password" "initial_admin_key" {
  length  = 48
  special = false
}

resource "azurerm_key_vault_secret" "baton_api_keys" {
  name         = "baton-api-keys"
  key_vault_id = azurerm_key_vault.baton.id
  value        = "${random_password.initial_admin_key.result}:admin"
  content_type = "BATON_API_KEYS: comma-separated key:role"
  tags         = local.tags

  lifecycle {
    ignore_changes = [value, content_type]
  }

  depends_on = [azurerm_role_assignment.deployer_key_vault_secrets_officer]
}

# The access key is URL-encoded: Azure keys may contain '/', '+' and '=' (ioredis decodes the password).
resource "azurerm_key_vault_secret" "redis_url" {
  name         = "redis-url"
  key_vault_id = azurerm_key_vault.baton.id
  value        = "rediss://:${urlencode(azurerm_redis_cache.baton.primary_access_key)}@${azurerm_redis_cache.baton.hostname}:${azurerm_redis_cache.baton.ssl_port}"
  content_type = "REDIS_URL"
  tags         = local.tags

  depends_on = [azurerm_role_assignment.deployer_key_vault_secrets_officer]
}

# The raw access key, for the KEDA Redis scaler's password parameter.
resource "azurerm_key_vault_secret" "redis_password" {
  name         = "redis-password"
  key_vault_id = azurerm_key_vault.baton.id
  value        = azurerm_redis_cache.baton.primary_access_key
  content_type = "Redis access key (KEDA scaler)"
  tags         = local.tags

  depends_on = [azurerm_role_assignment.deployer_key_vault_secrets_officer]
}

resource "azurerm_key_vault_secret" "appinsights_connection_string" {
  name         = "appinsights-connection-string"
  key_vault_id = azurerm_key_vault.baton.id
  value        = azurerm_application_insights.baton.connection_string
  content_type = "APPLICATIONINSIGHTS_CONNECTION_STRING"
  tags         = local.tags

  depends_on = [azurerm_role_assignment.deployer_key_vault_secrets_officer]
}
