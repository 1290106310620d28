# Azure Cache for Redis holds the BullMQ queue, run records, journals and event streams.
# TLS only (port 6380), TLS 1.2+, and `noeviction`: BullMQ must never lose keys under memory pressure.
resource "azurerm_redis_cache" "baton" {
  name                = "redis-${local.base}-${local.suffix}"
  location            = azurerm_resource_group.baton.location
  resource_group_name = azurerm_resource_group.baton.name
  sku_name            = var.redis_sku_name
  family              = var.redis_sku_name == "Premium" ? "P" : "C"
  capacity            = var.redis_capacity
  # A clustered cache (Premium): the OSS cluster protocol, which baton speaks with BATON_REDIS_CLUSTER.
  shard_count          = var.redis_cluster_shards > 0 ? var.redis_cluster_shards : null
  redis_version        = "6"
  non_ssl_port_enabled = false
  minimum_tls_version  = "1.2"
  tags                 = local.tags

  lifecycle {
    precondition {
      condition     = var.redis_cluster_shards == 0 || var.redis_sku_name == "Premium"
      error_message = "redis_cluster_shards needs redis_sku_name = \"Premium\" (only Premium caches are clustered)."
    }
    precondition {
      condition     = var.redis_wait_replicas == 0 || var.redis_sku_name != "Basic"
      error_message = "redis_wait_replicas must be 0 on Basic, which has no replica to wait for."
    }
  }

  redis_configuration {
    maxmemory_policy = "noeviction"
  }
}
