# Images are pulled by the container apps' managed identity (AcrPull); no admin user, no passwords.
resource "azurerm_container_registry" "baton" {
  name                = "acr${var.name_prefix}${var.environment}${local.suffix}"
  location            = azurerm_resource_group.baton.location
  resource_group_name = azurerm_resource_group.baton.name
  sku                 = "Standard"
  admin_enabled       = false
  tags                = local.tags
}
