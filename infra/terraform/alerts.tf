# Log-search alerts on baton's OpenTelemetry metrics. The Azure Monitor exporter writes every metric to the
# Application Insights `customMetrics` table: `name` is the instrument name, attributes are keys of
# `customDimensions`, and each row is one export interval (`valueSum`, `valueMax`, ...).

resource "azurerm_monitor_action_group" "baton" {
  name                = "ag-${local.base}"
  resource_group_name = azurerm_resource_group.baton.name
  short_name          = "baton"
  tags                = local.tags

  email_receiver {
    name                    = "operators"
    email_address           = var.alert_email
    use_common_alert_schema = true
  }
}

# Runs counted by `baton.runs` (attribute `baton.run.status`): share of finished runs that failed.
resource "azurerm_monitor_scheduled_query_rules_alert_v2" "run_failure_rate" {
  name                    = "alert-${local.base}-run-failure-rate"
  display_name            = "baton: run failure rate"
  description             = "More than ${var.alert_run_failure_rate * 100}% of finished runs failed in the last 15 minutes."
  location                = azurerm_resource_group.baton.location
  resource_group_name     = azurerm_resource_group.baton.name
  scopes                  = [azurerm_application_insights.baton.id]
  severity                = 1
  evaluation_frequency    = "PT5M"
  window_duration         = "PT15M"
  auto_mitigation_enabled = true
  tags                    = local.tags

  criteria {
    query                   = <<-KQL
      customMetrics
      | where name == "baton.runs"
      | extend status = tostring(customDimensions["baton.run.status"])
      | where status in ("succeeded", "failed", "cancelled")
      | summarize finished = sum(valueSum), failed = sumif(valueSum, status == "failed")
      | where finished >= ${var.alert_run_failure_min_runs}
      | project failure_rate = failed / finished
    KQL
    time_aggregation_method = "Maximum"
    metric_measure_column   = "failure_rate"
    operator                = "GreaterThan"
    threshold               = var.alert_run_failure_rate
  }

  action {
    action_groups = [azurerm_monitor_action_group.baton.id]
  }
}

# Breaker state per agent from `baton.agent.breaker.state` (0 closed, 0.5 half-open, 1 open; attribute
# `gen_ai.agent.name`), one alert per agent.
resource "azurerm_monitor_scheduled_query_rules_alert_v2" "breaker_open" {
  name                    = "alert-${local.base}-breaker-open"
  display_name            = "baton: agent circuit breaker open"
  description             = "An agent's circuit breaker is open: its model calls fail fast (see GET /v1/agents)."
  location                = azurerm_resource_group.baton.location
  resource_group_name     = azurerm_resource_group.baton.name
  scopes                  = [azurerm_application_insights.baton.id]
  severity                = 2
  evaluation_frequency    = "PT1M"
  window_duration         = "PT5M"
  auto_mitigation_enabled = true
  tags                    = local.tags

  criteria {
    query                   = <<-KQL
      customMetrics
      | where name == "baton.agent.breaker.state"
      | extend agent = tostring(customDimensions["gen_ai.agent.name"])
      | summarize breaker_open = max(valueMax) by agent
    KQL
    time_aggregation_method = "Maximum"
    metric_measure_column   = "breaker_open"
    operator                = "GreaterThanOrEqual"
    threshold               = 1

    dimension {
      name     = "agent"
      operator = "Include"
      values   = ["*"]
    }
  }

  action {
    action_groups = [azurerm_monitor_action_group.baton.id]
  }
}

# Oldest waiting run from `baton.queue.oldest_wait_ms`: runs are queued but nobody picks them up.
resource "azurerm_monitor_scheduled_query_rules_alert_v2" "queue_oldest_wait" {
  name                    = "alert-${local.base}-queue-oldest-wait"
  display_name            = "baton: runs waiting too long"
  description             = "The oldest waiting run has waited more than ${var.alert_queue_oldest_wait_seconds} s: workers are down, stuck or maxed out."
  location                = azurerm_resource_group.baton.location
  resource_group_name     = azurerm_resource_group.baton.name
  scopes                  = [azurerm_application_insights.baton.id]
  severity                = 2
  evaluation_frequency    = "PT5M"
  window_duration         = "PT5M"
  auto_mitigation_enabled = true
  tags                    = local.tags

  criteria {
    query                   = <<-KQL
      customMetrics
      | where name == "baton.queue.oldest_wait_ms" and tostring(customDimensions["baton.queue"]) == "runs"
      | summarize oldest_wait_seconds = max(valueMax) / 1000.0
    KQL
    time_aggregation_method = "Maximum"
    metric_measure_column   = "oldest_wait_seconds"
    operator                = "GreaterThan"
    threshold               = var.alert_queue_oldest_wait_seconds
  }

  action {
    action_groups = [azurerm_monitor_action_group.baton.id]
  }
}

# Backlog from `baton.queue.waiting`: more waiting runs than the worker pool drains.
resource "azurerm_monitor_scheduled_query_rules_alert_v2" "queue_backlog" {
  name                    = "alert-${local.base}-queue-backlog"
  display_name            = "baton: queue backlog"
  description             = "More than ${var.alert_queue_backlog} runs are waiting in the runs queue."
  location                = azurerm_resource_group.baton.location
  resource_group_name     = azurerm_resource_group.baton.name
  scopes                  = [azurerm_application_insights.baton.id]
  severity                = 3
  evaluation_frequency    = "PT5M"
  window_duration         = "PT15M"
  auto_mitigation_enabled = true
  tags                    = local.tags

  criteria {
    query                   = <<-KQL
      customMetrics
      | where name == "baton.queue.waiting" and tostring(customDimensions["baton.queue"]) == "runs"
      | summarize waiting = max(valueMax)
    KQL
    time_aggregation_method = "Maximum"
    metric_measure_column   = "waiting"
    operator                = "GreaterThan"
    threshold               = var.alert_queue_backlog
  }

  action {
    action_groups = [azurerm_monitor_action_group.baton.id]
  }
}

# Token spend from the GenAI histogram `gen_ai.client.token.usage` (input + output tokens) over one hour.
resource "azurerm_monitor_scheduled_query_rules_alert_v2" "token_spend" {
  name                    = "alert-${local.base}-token-spend"
  display_name            = "baton: token spend per hour"
  description             = "Model token usage exceeded ${var.alert_tokens_per_hour} tokens in the last hour."
  location                = azurerm_resource_group.baton.location
  resource_group_name     = azurerm_resource_group.baton.name
  scopes                  = [azurerm_application_insights.baton.id]
  severity                = 3
  evaluation_frequency    = "PT15M"
  window_duration         = "PT1H"
  auto_mitigation_enabled = true
  tags                    = local.tags

  criteria {
    query                   = <<-KQL
      customMetrics
      | where name == "gen_ai.client.token.usage"
      | summarize tokens = sum(valueSum)
    KQL
    time_aggregation_method = "Total"
    metric_measure_column   = "tokens"
    operator                = "GreaterThan"
    threshold               = var.alert_tokens_per_hour
  }

  action {
    action_groups = [azurerm_monitor_action_group.baton.id]
  }
}

# Quality from online evaluation: the mean LLM-judge score of `baton.eval.score` (attribute `baton.eval.scorer`)
# per team and variant over six hours, once enough runs were graded (BATON_ONLINE_EVAL_RATE).
resource "azurerm_monitor_scheduled_query_rules_alert_v2" "quality_drop" {
  name                    = "alert-${local.base}-quality-drop"
  display_name            = "baton: online quality drop"
  description             = "A team variant's mean online judge score fell below ${var.alert_eval_score_min} over the last 6 hours."
  location                = azurerm_resource_group.baton.location
  resource_group_name     = azurerm_resource_group.baton.name
  scopes                  = [azurerm_application_insights.baton.id]
  severity                = 2
  evaluation_frequency    = "PT30M"
  window_duration         = "PT6H"
  auto_mitigation_enabled = true
  tags                    = local.tags

  criteria {
    query                   = <<-KQL
      customMetrics
      | where name == "baton.eval.score"
      | where tostring(customDimensions["baton.eval.scorer"]) == "judge"
      | extend team = tostring(customDimensions["baton.team"]), variant = tostring(customDimensions["baton.variant"])
      | summarize graded = sum(valueCount), total = sum(valueSum) by team, variant
      | where graded >= ${var.alert_eval_min_graded}
      | project team, variant, mean_score = total / graded
    KQL
    time_aggregation_method = "Minimum"
    metric_measure_column   = "mean_score"
    operator                = "LessThan"
    threshold               = var.alert_eval_score_min

    dimension {
      name     = "team"
      operator = "Include"
      values   = ["*"]
    }
    dimension {
      name     = "variant"
      operator = "Include"
      values   = ["*"]
    }
  }

  action {
    action_groups = [azurerm_monitor_action_group.baton.id]
  }
}
