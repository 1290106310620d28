data "azurerm_client_config" "current" {}

locals {
  # Globally unique names (registry, vault, cache, OpenAI subdomain) get a short stable hash.
  suffix = substr(sha1("${data.azurerm_client_config.current.subscription_id}/${var.name_prefix}/${var.environment}"), 0, 6)
  base   = "${var.name_prefix}-${var.environment}"

  tags = merge(
    {
      application = "baton"
      environment = var.environment
      managed-by  = "terraform"
    },
    var.tags,
  )

  image = "${azurerm_container_registry.baton.login_server}/${var.image_repository}:${var.image_tag}"

  # The prefix baton uses: on a clustered cache the hash tag {<redis_prefix>} (src/config: BATON_REDIS_CLUSTER).
  redis_clustered  = var.redis_cluster_shards > 0
  redis_key_prefix = local.redis_clustered ? "{${var.redis_prefix}}" : var.redis_prefix
  # BullMQ's wait list of the runs queue (src/queue/names.ts: runsWaitListKey(prefix)).
  runs_wait_list_key = "${local.redis_key_prefix}:runs:wait"
  # BullMQ's active list of the runs queue (src/queue/names.ts: runsActiveListKey(prefix)): the runs in flight.
  runs_active_list_key = "${local.redis_key_prefix}:runs:active"
  # KEDA's scaler for a clustered cache follows the cluster's redirects (`addresses`); the other reads one server.
  redis_scaler = local.redis_clustered ? "redis-cluster" : "redis"

  # baton's own shutdown grace: 10 s less than the platform's, so the process exits before SIGKILL.
  worker_shutdown_grace_ms = (var.worker_termination_grace_period_seconds - 10) * 1000
}

resource "azurerm_resource_group" "baton" {
  name     = "rg-${local.base}"
  location = var.location
  tags     = local.tags
}
