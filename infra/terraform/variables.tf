# ---------------------------------------------------------------------------------------------------------
# Naming and placement
# ---------------------------------------------------------------------------------------------------------

variable "name_prefix" {
  description = "Short prefix for every resource name (lower-case letters and digits). Globally unique names also get a hash of subscription, prefix and environment."
  type        = string
  default     = "baton"

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,7}$", var.name_prefix))
    error_message = "name_prefix must be 2-8 lower-case letters or digits, starting with a letter (it ends up in Key Vault and registry names, which are short)."
  }
}

variable "environment" {
  description = "Deployment environment name (dev, staging, prod, ...). Part of resource names and reported by baton as BATON_ENVIRONMENT."
  type        = string
  default     = "dev"

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,7}$", var.environment))
    error_message = "environment must be 2-8 lower-case letters or digits, starting with a letter."
  }
}

variable "location" {
  description = "Azure region for all resources except the OpenAI account (see openai_location)."
  type        = string
  default     = "swedencentral"

  validation {
    condition     = can(regex("^[a-z0-9]+$", var.location))
    error_message = "location must be an Azure region name such as swedencentral or eastus2 (lower-case, no spaces)."
  }
}

variable "tags" {
  description = "Extra tags merged into every resource's tags."
  type        = map(string)
  default     = {}
}

# ---------------------------------------------------------------------------------------------------------
# Image and container apps
# ---------------------------------------------------------------------------------------------------------

variable "image_repository" {
  description = "Repository of the baton image inside the Azure Container Registry created here."
  type        = string
  default     = "baton"

  validation {
    condition     = can(regex("^[a-z0-9]+([._/-][a-z0-9]+)*$", var.image_repository))
    error_message = "image_repository must be a valid lower-case repository path, e.g. baton."
  }
}

variable "image_tag" {
  description = "Tag of the baton image to run (CD passes the git tag or sha-<commit>). Never `latest`: revisions must be reproducible."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", var.image_tag)) && var.image_tag != "latest"
    error_message = "image_tag must be a valid Docker tag other than `latest`."
  }
}

variable "api_min_replicas" {
  description = "Minimum replicas of the api container app. Keep at least 1: the API serves SSE streams and health probes."
  type        = number
  default     = 1

  validation {
    condition     = var.api_min_replicas >= 1 && var.api_min_replicas <= 30 && floor(var.api_min_replicas) == var.api_min_replicas
    error_message = "api_min_replicas must be a whole number between 1 and 30."
  }
}

variable "api_max_replicas" {
  description = "Maximum replicas of the api container app (HTTP concurrency scaling)."
  type        = number
  default     = 5

  validation {
    condition     = var.api_max_replicas >= var.api_min_replicas && var.api_max_replicas <= 300 && floor(var.api_max_replicas) == var.api_max_replicas
    error_message = "api_max_replicas must be a whole number, at least api_min_replicas and at most 300."
  }
}

variable "api_concurrent_requests" {
  description = "Concurrent HTTP requests per api replica before Container Apps adds one (long-lived SSE streams count)."
  type        = number
  default     = 100

  validation {
    condition     = var.api_concurrent_requests >= 1
    error_message = "api_concurrent_requests must be at least 1."
  }
}

variable "worker_min_replicas" {
  description = "Minimum worker replicas. At least 1: BullMQ workers also promote delayed jobs (retries with backoff), which a scaled-to-zero pool would strand, and KEDA only watches the wait list."
  type        = number
  default     = 1

  validation {
    condition     = var.worker_min_replicas >= 1 && var.worker_min_replicas <= 30 && floor(var.worker_min_replicas) == var.worker_min_replicas
    error_message = "worker_min_replicas must be a whole number between 1 and 30 (scale-to-zero would strand delayed jobs)."
  }
}

variable "worker_max_replicas" {
  description = "Maximum worker replicas the KEDA Redis rule may scale to."
  type        = number
  default     = 10

  validation {
    condition     = var.worker_max_replicas >= var.worker_min_replicas && var.worker_max_replicas <= 300 && floor(var.worker_max_replicas) == var.worker_max_replicas
    error_message = "worker_max_replicas must be a whole number, at least worker_min_replicas and at most 300."
  }
}

variable "worker_concurrency" {
  description = "Runs one worker replica executes at once (BATON_WORKER_CONCURRENCY)."
  type        = number
  default     = 8

  validation {
    condition     = var.worker_concurrency >= 1 && var.worker_concurrency <= 1000 && floor(var.worker_concurrency) == var.worker_concurrency
    error_message = "worker_concurrency must be a whole number between 1 and 1000 (the range baton's config accepts)."
  }
}

variable "worker_scale_busy_fraction" {
  description = "KEDA target for runs in flight: desired replicas >= ceil(active runs / (worker_concurrency x this)), so the pool keeps the replicas the runs it is executing need (Little's law) even when nothing waits. 1 = scale only when every slot is busy."
  type        = number
  default     = 0.8

  validation {
    condition     = var.worker_scale_busy_fraction >= 0.1 && var.worker_scale_busy_fraction <= 1
    error_message = "worker_scale_busy_fraction must be between 0.1 and 1."
  }
}

variable "worker_scale_list_length" {
  description = "KEDA target: waiting runs per worker replica. Desired replicas = ceil(length of the BullMQ wait list / this), clamped to min/max."
  type        = number
  default     = 10

  validation {
    condition     = var.worker_scale_list_length >= 1 && floor(var.worker_scale_list_length) == var.worker_scale_list_length
    error_message = "worker_scale_list_length must be a whole number of at least 1."
  }
}

variable "max_agent_timeout_seconds" {
  description = "Longest per-attempt agent timeout of any deployed team (agent policy timeoutMs / 1000; baton's default is 30). Bounds the worker's shutdown grace from below."
  type        = number
  default     = 30

  validation {
    condition     = var.max_agent_timeout_seconds >= 1 && var.max_agent_timeout_seconds <= 540
    error_message = "max_agent_timeout_seconds must be between 1 and 540 (Container Apps allows at most 600 s of termination grace)."
  }
}

variable "worker_termination_grace_period_seconds" {
  description = "Seconds between SIGTERM and SIGKILL for a worker replica. baton gets this minus 10 s as BATON_SHUTDOWN_GRACE_MS, which must exceed the longest agent timeout so an in-flight agent call can finish and be journaled."
  type        = number
  default     = 60

  validation {
    condition     = var.worker_termination_grace_period_seconds > var.max_agent_timeout_seconds + 10 && var.worker_termination_grace_period_seconds <= 600
    error_message = "worker_termination_grace_period_seconds must be greater than max_agent_timeout_seconds + 10 and at most 600."
  }
}

variable "api_cpu" {
  description = "vCPU per api replica (Consumption profile: 0.25 steps, memory = 2 GiB per vCPU)."
  type        = number
  default     = 0.5
}

variable "api_memory" {
  description = "Memory per api replica, e.g. 1Gi (must pair with api_cpu)."
  type        = string
  default     = "1Gi"
}

variable "worker_cpu" {
  description = "vCPU per worker replica."
  type        = number
  default     = 1
}

variable "worker_memory" {
  description = "Memory per worker replica, e.g. 2Gi (must pair with worker_cpu)."
  type        = string
  default     = "2Gi"
}

variable "redis_prefix" {
  description = "BullMQ key prefix (BATON_REDIS_PREFIX). The KEDA rule watches <prefix>:runs:wait, so both must agree."
  type        = string
  default     = "baton"

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]+$", var.redis_prefix))
    error_message = "redis_prefix must be letters, digits, dashes or underscores (the same rule as BATON_REDIS_PREFIX)."
  }
}

variable "log_level" {
  description = "pino log level of both apps (LOG_LEVEL)."
  type        = string
  default     = "info"

  validation {
    condition     = contains(["fatal", "error", "warn", "info", "debug", "trace", "silent"], var.log_level)
    error_message = "log_level must be one of fatal, error, warn, info, debug, trace, silent."
  }
}

# ---------------------------------------------------------------------------------------------------------
# Redis
# ---------------------------------------------------------------------------------------------------------

variable "redis_sku_name" {
  description = "Azure Cache for Redis SKU. Standard (replicated) or Premium (adds persistence) for production; Basic has no SLA."
  type        = string
  default     = "Standard"

  validation {
    condition     = contains(["Basic", "Standard", "Premium"], var.redis_sku_name)
    error_message = "redis_sku_name must be Basic, Standard or Premium."
  }
}

variable "redis_capacity" {
  description = "Cache size: 0-6 for Basic/Standard (C family), 1-5 for Premium (P family)."
  type        = number
  default     = 1

  validation {
    condition     = var.redis_capacity >= 0 && var.redis_capacity <= 6 && floor(var.redis_capacity) == var.redis_capacity
    error_message = "redis_capacity must be a whole number between 0 and 6."
  }
}

variable "redis_cluster_shards" {
  description = "Shards of a clustered cache (Premium only; 0 = not clustered). baton then runs with BATON_REDIS_CLUSTER=true: each run's keys hash to a slot of their own, and its prefix becomes the hash tag {<redis_prefix>} for the queue and indexes."
  type        = number
  default     = 0

  validation {
    condition     = var.redis_cluster_shards >= 0 && var.redis_cluster_shards <= 10 && floor(var.redis_cluster_shards) == var.redis_cluster_shards
    error_message = "redis_cluster_shards must be a whole number between 0 and 10."
  }
}

variable "redis_wait_replicas" {
  description = "Replicas that must hold a new run before the API accepts it (BATON_REDIS_WAIT_REPLICAS, Redis WAIT): 1 on Standard or Premium so that a failover cannot lose an accepted run; 0 (the default) accepts a run once its master holds it. Where the cache refuses WAIT, baton logs a warning and accepts the run."
  type        = number
  default     = 0

  validation {
    condition     = var.redis_wait_replicas >= 0 && var.redis_wait_replicas <= 1 && floor(var.redis_wait_replicas) == var.redis_wait_replicas
    error_message = "redis_wait_replicas must be 0 or 1 (Azure Cache for Redis keeps one replica)."
  }
}

# ---------------------------------------------------------------------------------------------------------
# Models
# ---------------------------------------------------------------------------------------------------------

variable "openai_location" {
  description = "Region of the Azure OpenAI account (model availability differs by region). Null: same as location."
  type        = string
  default     = null
}

variable "openai_deployments" {
  description = "Model deployments on the Azure OpenAI account, keyed by deployment name. capacity is in thousands of tokens per minute."
  type = map(object({
    model_name             = string
    model_version          = string
    sku_name               = optional(string, "GlobalStandard")
    capacity               = optional(number, 50)
    version_upgrade_option = optional(string, "OnceCurrentVersionExpired")
  }))
  default = {
    "gpt-4.1-mini" = {
      model_name    = "gpt-4.1-mini"
      model_version = "2025-04-14"
    }
  }

  validation {
    condition     = length(var.openai_deployments) > 0
    error_message = "openai_deployments must declare at least one deployment."
  }

  validation {
    condition = alltrue([
      for d in values(var.openai_deployments) :
      contains(["Standard", "DataZoneStandard", "GlobalStandard", "GlobalBatch", "ProvisionedManaged"], d.sku_name) && d.capacity >= 1
    ])
    error_message = "Each deployment needs sku_name Standard, DataZoneStandard, GlobalStandard, GlobalBatch or ProvisionedManaged and capacity >= 1."
  }

  validation {
    condition = alltrue([
      for d in values(var.openai_deployments) :
      contains(["OnceNewDefaultVersionAvailable", "OnceCurrentVersionExpired", "NoAutoUpgrade"], d.version_upgrade_option)
    ])
    error_message = "version_upgrade_option must be OnceNewDefaultVersionAvailable, OnceCurrentVersionExpired or NoAutoUpgrade."
  }
}

variable "default_openai_deployment" {
  description = "Deployment baton uses when an agent names none (AZURE_OPENAI_DEPLOYMENT). Must be a key of openai_deployments."
  type        = string
  default     = "gpt-4.1-mini"

  validation {
    condition     = contains(keys(var.openai_deployments), var.default_openai_deployment)
    error_message = "default_openai_deployment must be one of the keys of openai_deployments."
  }
}

variable "openai_api_version" {
  description = "Azure OpenAI data-plane API version (OPENAI_API_VERSION)."
  type        = string
  default     = "2024-10-21"

  validation {
    condition     = can(regex("^\\d{4}-\\d{2}-\\d{2}(-preview)?$", var.openai_api_version))
    error_message = "openai_api_version must look like 2024-10-21 or 2025-01-01-preview."
  }
}

variable "enable_ai_foundry" {
  description = "Also create an Azure AI Foundry resource and project (with the openai_deployments as its model deployments) and give the apps its endpoint (AZURE_AI_PROJECT_ENDPOINT), for agents with model.provider foundry."
  type        = bool
  default     = false
}

variable "enable_content_safety" {
  description = "Also create an Azure AI Content Safety account and give the worker its endpoint (AZURE_CONTENT_SAFETY_ENDPOINT), for teams that turn on the Prompt Shields or Content Safety guardrails."
  type        = bool
  default     = false
}

variable "content_safety_location" {
  description = "Region of the Content Safety account (Prompt Shields is offered in some regions only); defaults to location."
  type        = string
  default     = null
}

# ---------------------------------------------------------------------------------------------------------
# Observability and alerts
# ---------------------------------------------------------------------------------------------------------

variable "log_retention_days" {
  description = "Retention of the Log Analytics workspace (and so of Application Insights data)."
  type        = number
  default     = 30

  validation {
    condition     = var.log_retention_days >= 30 && var.log_retention_days <= 730
    error_message = "log_retention_days must be between 30 and 730."
  }
}

variable "alert_email" {
  description = "Address the alert action group emails."
  type        = string

  validation {
    condition     = can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.alert_email))
    error_message = "alert_email must be an email address."
  }
}

variable "alert_run_failure_rate" {
  description = "Alert when more than this fraction of finished runs failed in 15 minutes (0-1)."
  type        = number
  default     = 0.2

  validation {
    condition     = var.alert_run_failure_rate > 0 && var.alert_run_failure_rate < 1
    error_message = "alert_run_failure_rate must be between 0 and 1 (exclusive)."
  }
}

variable "alert_run_failure_min_runs" {
  description = "Finished runs needed in the window before the failure-rate alert may fire (avoids 1-of-1 pages)."
  type        = number
  default     = 5

  validation {
    condition     = var.alert_run_failure_min_runs >= 1
    error_message = "alert_run_failure_min_runs must be at least 1."
  }
}

variable "alert_queue_oldest_wait_seconds" {
  description = "Alert when the oldest waiting run has waited longer than this many seconds."
  type        = number
  default     = 300

  validation {
    condition     = var.alert_queue_oldest_wait_seconds >= 1
    error_message = "alert_queue_oldest_wait_seconds must be at least 1."
  }
}

variable "alert_queue_backlog" {
  description = "Alert when more runs than this are waiting (worker_max_replicas x worker_scale_list_length means the pool is maxed out)."
  type        = number
  default     = 200

  validation {
    condition     = var.alert_queue_backlog >= 1
    error_message = "alert_queue_backlog must be at least 1."
  }
}

variable "alert_tokens_per_hour" {
  description = "Alert when model token usage (input + output) exceeds this many tokens in one hour."
  type        = number
  default     = 2000000

  validation {
    condition     = var.alert_tokens_per_hour >= 1
    error_message = "alert_tokens_per_hour must be at least 1."
  }
}

variable "alert_eval_score_min" {
  description = "Alert when a team variant's mean online judge score (baton.eval.score, 0-1) over 6 hours falls below this."
  type        = number
  default     = 0.6

  validation {
    condition     = var.alert_eval_score_min > 0 && var.alert_eval_score_min <= 1
    error_message = "alert_eval_score_min must be in (0, 1]."
  }
}

variable "alert_eval_min_graded" {
  description = "Graded runs a team variant needs in the window before the quality-drop alert judges its mean."
  type        = number
  default     = 20

  validation {
    condition     = var.alert_eval_min_graded >= 1
    error_message = "alert_eval_min_graded must be at least 1."
  }
}
