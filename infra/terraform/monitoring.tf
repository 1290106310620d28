resource "azurerm_log_analytics_workspace" "baton" {
  name                = "log-${local.base}"
  location            = azurerm_resource_group.baton.location
  resource_group_name = azurerm_resource_group.baton.name
  sku                 = "PerGB2018"
  retention_in_days   = var.log_retention_days
  tags                = local.tags
}

# Workspace-based Application Insights: baton exports traces, metrics (customMetrics) and logs here through
# the Azure Monitor OpenTelemetry distro when APPLICATIONINSIGHTS_CONNECTION_STRING is set.
resource "azurerm_application_insights" "baton" {
  name                = "appi-${local.base}"
  location            = azurerm_resource_group.baton.location
  resource_group_name = azurerm_resource_group.baton.name
  workspace_id        = azurerm_log_analytics_workspace.baton.id
  application_type    = "Node.JS"
  tags                = local.tags
}
