terraform {
  required_version = ">= 1.6"
  required_providers {
    cloudflare = {
      source  = "cloudflare/cloudflare"
      version = "~> 4.40"
    }
  }
  backend "gcs" {
    bucket = "corp-tf"
    prefix = "prod/dns"
  }
}

provider "cloudflare" {}

variable "zone_id" {
  type        = string
  description = "Cloudflare zone id of corp.example"
}

resource "cloudflare_record" "pi" {
  for_each = var.pis
  zone_id  = var.zone_id
  name     = "${each.key}.lab"
  type     = "A"
  content  = each.value
  ttl      = 300
}

resource "cloudflare_record" "ingress" {
  zone_id = var.zone_id
  name    = "apps.lab"
  type    = "CNAME"
  content = "pi1.lab.corp.example"
  ttl     = 300
}
