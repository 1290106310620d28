terraform {
  # 1.9+: variable validations may refer to other variables (see variables.tf).
  required_version = ">= 1.9.0, < 2.0.0"

  required_providers {
    azurerm = {
      source = "hashicorp/azurerm"
      # 4.42 introduced `rbac_authorization_enabled` on azurerm_key_vault (the 4.x name of the RBAC switch),
      # 4.47 `project_management_enabled` on azurerm_cognitive_account, 4.55 azurerm_cognitive_account_project.
      version = ">= 4.55.0, < 5.0.0"
    }
    random = {
      source  = "hashicorp/random"
      version = ">= 3.6.0, < 4.0.0"
    }
  }

  # Remote state in an Azure Storage container, configured at `terraform init` time (see README.md):
  #   terraform init -backend-config=backend.hcl
  backend "azurerm" {}
}

provider "azurerm" {
  # The subscription comes from ARM_SUBSCRIPTION_ID (CI: repository variable; locally: `az account show`).
  storage_use_azuread = true

  features {
    key_vault {
      # Purge protection is on: a destroyed vault stays recoverable for its retention period.
      purge_soft_delete_on_destroy    = false
      recover_soft_deleted_key_vaults = true
    }
    cognitive_account {
      purge_soft_delete_on_destroy = false
    }
    resource_group {
      prevent_deletion_if_contains_resources = true
    }
  }
}
