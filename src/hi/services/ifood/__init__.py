"""The iFood integration: orders from Brazil's largest food-delivery marketplace."""
