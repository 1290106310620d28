output "resource_group_name" {
  description = "Resource group holding every baton resource."
  value       = azurerm_resource_group.baton.name
}

output "acr_name" {
  description = "Container registry name (for `az acr build --registry`)."
  value       = azurerm_container_registry.baton.name
}

output "acr_login_server" {
  description = "Container registry login server (image prefix)."
  value       = azurerm_container_registry.baton.login_server
}

output "image" {
  description = "The image both container apps run."
  value       = local.image
}

output "api_app_name" {
  description = "Name of the api container app."
  value       = azurerm_container_app.api.name
}

output "worker_app_name" {
  description = "Name of the worker container app."
  value       = azurerm_container_app.worker.name
}

output "api_fqdn" {
  description = "Public host name of the api (HTTPS only)."
  value       = azurerm_container_app.api.ingress[0].fqdn
}

output "api_url" {
  description = "Base URL of the api."
  value       = "https://${azurerm_container_app.api.ingress[0].fqdn}"
}

output "key_vault_name" {
  description = "Key Vault holding baton-api-keys, redis-url, redis-password and appinsights-connection-string."
  value       = azurerm_key_vault.baton.name
}

output "identity_client_id" {
  description = "Client id of the apps' user-assigned identity (AZURE_CLIENT_ID)."
  value       = azurerm_user_assigned_identity.baton.client_id
}

output "openai_endpoint" {
  description = "Azure OpenAI endpoint (AZURE_OPENAI_ENDPOINT)."
  value       = azurerm_cognitive_account.openai.endpoint
}

output "openai_deployments" {
  description = "Model deployment names on the Azure OpenAI account."
  value       = keys(azurerm_cognitive_deployment.models)
}

output "redis_hostname" {
  description = "Azure Cache for Redis host (TLS port 6380 only)."
  value       = azurerm_redis_cache.baton.hostname
}

output "runs_wait_list_key" {
  description = "Redis list the worker scale rule watches."
  value       = local.runs_wait_list_key
}

output "application_insights_name" {
  description = "Application Insights resource for traces, metrics and logs."
  value       = azurerm_application_insights.baton.name
}

output "log_analytics_workspace_id" {
  description = "Log Analytics workspace (container console logs and Application Insights data)."
  value       = azurerm_log_analytics_workspace.baton.id
}

output "ai_foundry_project_id" {
  description = "Foundry project resource id, or null when enable_ai_foundry is false."
  value       = var.enable_ai_foundry ? azurerm_cognitive_account_project.baton[0].id : null
}

output "ai_foundry_project_endpoint" {
  description = "Foundry project endpoint (AZURE_AI_PROJECT_ENDPOINT of the apps and of baton teams deploy), or null when enable_ai_foundry is false."
  value       = local.foundry_project_endpoint
}
