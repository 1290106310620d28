# Azure Cache for Redis holds the BullMQ queue, run records, journals and event streams.
# TLS only (port 6380), TLS 1.2+, and `noeviction`: BullMQ must never lose keys under memory pressure.
resource "azurerm_redis_cache" "baton" {
  name                 = "redis-${local.base}-${local.suffix}"
  location             = azurerm_resource_group.baton.location
  resource_group_name  = azurerm_resource_group.baton.name
  sku_name             = var.redis_sku_name
  family               = var.redis_sku_name == "Premium" ? "P" : "C"
  capacity             = var.redis_capacity
  redis_version        = "6"
  non_ssl_port_enabled = false
  minimum_tls_version  = "1.2"
  tags                 = local.tags

  redis_configuration {
    maxmemory_policy = "noeviction"
  }
}
