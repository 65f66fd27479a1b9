"""The webhooks service: hi's events sent to an operator's URL as signed Standard Webhooks."""
