resource "azurerm_container_app_environment" "baton" {
  name                       = "cae-${local.base}"
  location                   = azurerm_resource_group.baton.location
  resource_group_name        = azurerm_resource_group.baton.name
  log_analytics_workspace_id = azurerm_log_analytics_workspace.baton.id
  logs_destination           = "log-analytics"
  tags                       = local.tags
}

# ---------------------------------------------------------------------------------------------------------
# api: the public HTTP surface (`baton api`)
# ---------------------------------------------------------------------------------------------------------
resource "azurerm_container_app" "api" {
  name                         = "${local.base}-api"
  container_app_environment_id = azurerm_container_app_environment.baton.id
  resource_group_name          = azurerm_resource_group.baton.name
  revision_mode                = "Single"
  tags                         = local.tags

  identity {
    type         = "UserAssigned"
    identity_ids = [azurerm_user_assigned_identity.baton.id]
  }

  registry {
    server   = azurerm_container_registry.baton.login_server
    identity = azurerm_user_assigned_identity.baton.id
  }

  # Key Vault references (version-less: a restarted revision picks up the newest secret version).
  secret {
    name                = "redis-url"
    key_vault_secret_id = azurerm_key_vault_secret.redis_url.versionless_id
    identity            = azurerm_user_assigned_identity.baton.id
  }

  secret {
    name                = "baton-api-keys"
    key_vault_secret_id = azurerm_key_vault_secret.baton_api_keys.versionless_id
    identity            = azurerm_user_assigned_identity.baton.id
  }

  secret {
    name                = "appinsights-connection-string"
    key_vault_secret_id = azurerm_key_vault_secret.appinsights_connection_string.versionless_id
    identity            = azurerm_user_assigned_identity.baton.id
  }

  ingress {
    external_enabled           = true
    target_port                = 3000
    transport                  = "auto"
    allow_insecure_connections = false

    traffic_weight {
      latest_revision = true
      percentage      = 100
    }
  }

  template {
    min_replicas                     = var.api_min_replicas
    max_replicas                     = var.api_max_replicas
    termination_grace_period_seconds = 30

    http_scale_rule {
      name                = "http-concurrency"
      concurrent_requests = tostring(var.api_concurrent_requests)
    }

    container {
      name   = "api"
      image  = local.image
      args   = ["api"]
      cpu    = var.api_cpu
      memory = var.api_memory

      env {
        name  = "PORT"
        value = "3000"
      }
      env {
        name        = "REDIS_URL"
        secret_name = "redis-url"
      }
      env {
        name        = "BATON_API_KEYS"
        secret_name = "baton-api-keys"
      }
      env {
        name        = "APPLICATIONINSIGHTS_CONNECTION_STRING"
        secret_name = "appinsights-connection-string"
      }
      env {
        name  = "BATON_ENVIRONMENT"
        value = var.environment
      }
      env {
        name  = "BATON_REDIS_PREFIX"
        value = var.redis_prefix
      }
      env {
        name  = "BATON_REDIS_CLUSTER"
        value = tostring(local.redis_clustered)
      }
      env {
        name  = "BATON_REDIS_WAIT_REPLICAS"
        value = tostring(var.redis_wait_replicas)
      }
      env {
        name  = "BATON_MODEL_PROVIDER"
        value = "azure-openai"
      }
      env {
        name  = "AZURE_OPENAI_ENDPOINT"
        value = azurerm_cognitive_account.openai.endpoint
      }
      env {
        name  = "AZURE_OPENAI_DEPLOYMENT"
        value = var.default_openai_deployment
      }
      env {
        name  = "OPENAI_API_VERSION"
        value = var.openai_api_version
      }
      # DefaultAzureCredential picks the user-assigned identity by its client id.
      env {
        name  = "AZURE_CLIENT_ID"
        value = azurerm_user_assigned_identity.baton.client_id
      }
      # Agents with model.provider foundry run in the Foundry project (only when enable_ai_foundry is set).
      dynamic "env" {
        for_each = var.enable_ai_foundry ? [local.foundry_project_endpoint] : []
        content {
          name  = "AZURE_AI_PROJECT_ENDPOINT"
          value = env.value
        }
      }
      env {
        name  = "LOG_LEVEL"
        value = var.log_level
      }
      env {
        name  = "OTEL_SERVICE_NAME"
        value = "baton-api"
      }
      env {
        name  = "OTEL_RESOURCE_ATTRIBUTES"
        value = "deployment.environment.name=${var.environment}"
      }

      startup_probe {
        transport               = "HTTP"
        port                    = 3000
        path                    = "/healthz"
        interval_seconds        = 2
        timeout                 = 2
        failure_count_threshold = 30
      }

      liveness_probe {
        transport               = "HTTP"
        port                    = 3000
        path                    = "/healthz"
        interval_seconds        = 10
        timeout                 = 3
        failure_count_threshold = 3
      }

      readiness_probe {
        transport               = "HTTP"
        port                    = 3000
        path                    = "/readyz"
        interval_seconds        = 5
        timeout                 = 3
        failure_count_threshold = 3
        success_count_threshold = 1
      }
    }
  }

  depends_on = [
    azurerm_role_assignment.identity_acr_pull,
    azurerm_role_assignment.identity_key_vault_secrets_user,
    azurerm_role_assignment.identity_openai_user,
    azurerm_role_assignment.identity_foundry_user,
    azurerm_role_assignment.identity_content_safety_user,
    azurerm_cognitive_deployment.models,
    azurerm_cognitive_deployment.foundry,
  ]
}

# ---------------------------------------------------------------------------------------------------------
# worker: BullMQ consumers (`baton worker`), scaled by KEDA on the length of the runs wait list
# ---------------------------------------------------------------------------------------------------------
resource "azurerm_container_app" "worker" {
  name                         = "${local.base}-worker"
  container_app_environment_id = azurerm_container_app_environment.baton.id
  resource_group_name          = azurerm_resource_group.baton.name
  revision_mode                = "Single"
  tags                         = local.tags

  identity {
    type         = "UserAssigned"
    identity_ids = [azurerm_user_assigned_identity.baton.id]
  }

  registry {
    server   = azurerm_container_registry.baton.login_server
    identity = azurerm_user_assigned_identity.baton.id
  }

  secret {
    name                = "redis-url"
    key_vault_secret_id = azurerm_key_vault_secret.redis_url.versionless_id
    identity            = azurerm_user_assigned_identity.baton.id
  }

  # Used only by the KEDA scaler's authentication (trigger parameter `password`).
  secret {
    name                = "redis-password"
    key_vault_secret_id = azurerm_key_vault_secret.redis_password.versionless_id
    identity            = azurerm_user_assigned_identity.baton.id
  }

  secret {
    name                = "appinsights-connection-string"
    key_vault_secret_id = azurerm_key_vault_secret.appinsights_connection_string.versionless_id
    identity            = azurerm_user_assigned_identity.baton.id
  }

  # No ingress: workers only talk to Redis and the model.

  template {
    min_replicas = var.worker_min_replicas
    max_replicas = var.worker_max_replicas
    # Longer than the longest agent timeout: on scale-in or a new revision, an in-flight agent call finishes
    # and is journaled; the run then resumes on another replica from the journal.
    termination_grace_period_seconds = var.worker_termination_grace_period_seconds

    # desired replicas = ceil(LLEN <prefix>:runs:wait / listLength), clamped to min/max replicas.
    custom_scale_rule {
      name             = "runs-backlog"
      custom_rule_type = local.redis_scaler
      metadata = {
        address       = "${azurerm_redis_cache.baton.hostname}:${azurerm_redis_cache.baton.ssl_port}"
        addresses     = "${azurerm_redis_cache.baton.hostname}:${azurerm_redis_cache.baton.ssl_port}"
        listName      = local.runs_wait_list_key
        listLength    = tostring(var.worker_scale_list_length)
        enableTLS     = "true"
        databaseIndex = "0"
      }

      authentication {
        secret_name       = "redis-password"
        trigger_parameter = "password"
      }
    }

    # desired replicas >= ceil(LLEN <prefix>:runs:active / (worker_concurrency x worker_scale_busy_fraction)):
    # the replicas the runs in flight need. Without it, a pool that keeps up (an empty wait list) would be scaled
    # in to its minimum, then out again once a backlog formed. KEDA takes the larger of the two rules.
    custom_scale_rule {
      name             = "runs-in-flight"
      custom_rule_type = local.redis_scaler
      metadata = {
        address       = "${azurerm_redis_cache.baton.hostname}:${azurerm_redis_cache.baton.ssl_port}"
        addresses     = "${azurerm_redis_cache.baton.hostname}:${azurerm_redis_cache.baton.ssl_port}"
        listName      = local.runs_active_list_key
        listLength    = tostring(max(1, floor(var.worker_concurrency * var.worker_scale_busy_fraction)))
        enableTLS     = "true"
        databaseIndex = "0"
      }

      authentication {
        secret_name       = "redis-password"
        trigger_parameter = "password"
      }
    }

    container {
      name   = "worker"
      image  = local.image
      args   = ["worker"]
      cpu    = var.worker_cpu
      memory = var.worker_memory

      env {
        name        = "REDIS_URL"
        secret_name = "redis-url"
      }
      env {
        name        = "APPLICATIONINSIGHTS_CONNECTION_STRING"
        secret_name = "appinsights-connection-string"
      }
      env {
        name  = "BATON_ENVIRONMENT"
        value = var.environment
      }
      env {
        name  = "BATON_REDIS_PREFIX"
        value = var.redis_prefix
      }
      env {
        name  = "BATON_REDIS_CLUSTER"
        value = tostring(local.redis_clustered)
      }
      env {
        name  = "BATON_REDIS_WAIT_REPLICAS"
        value = tostring(var.redis_wait_replicas)
      }
      env {
        name  = "BATON_WORKER_CONCURRENCY"
        value = tostring(var.worker_concurrency)
      }
      env {
        name  = "BATON_SHUTDOWN_GRACE_MS"
        value = tostring(local.worker_shutdown_grace_ms)
      }
      env {
        name  = "BATON_MODEL_PROVIDER"
        value = "azure-openai"
      }
      env {
        name  = "AZURE_OPENAI_ENDPOINT"
        value = azurerm_cognitive_account.openai.endpoint
      }
      env {
        name  = "AZURE_OPENAI_DEPLOYMENT"
        value = var.default_openai_deployment
      }
      env {
        name  = "OPENAI_API_VERSION"
        value = var.openai_api_version
      }
      env {
        name  = "AZURE_CLIENT_ID"
        value = azurerm_user_assigned_identity.baton.client_id
      }
      # Agents with model.provider foundry run in the Foundry project (only when enable_ai_foundry is set).
      dynamic "env" {
        for_each = var.enable_ai_foundry ? [local.foundry_project_endpoint] : []
        content {
          name  = "AZURE_AI_PROJECT_ENDPOINT"
          value = env.value
        }
      }
      dynamic "env" {
        for_each = var.enable_content_safety ? [azurerm_cognitive_account.content_safety[0].endpoint] : []
        content {
          name  = "AZURE_CONTENT_SAFETY_ENDPOINT"
          value = env.value
        }
      }
      env {
        name  = "LOG_LEVEL"
        value = var.log_level
      }
      env {
        name  = "OTEL_SERVICE_NAME"
        value = "baton-worker"
      }
      env {
        name  = "OTEL_RESOURCE_ATTRIBUTES"
        value = "deployment.environment.name=${var.environment}"
      }
    }
  }

  depends_on = [
    azurerm_role_assignment.identity_acr_pull,
    azurerm_role_assignment.identity_key_vault_secrets_user,
    azurerm_role_assignment.identity_openai_user,
    azurerm_role_assignment.identity_foundry_user,
    azurerm_role_assignment.identity_content_safety_user,
    azurerm_cognitive_deployment.models,
    azurerm_cognitive_deployment.foundry,
  ]
}
