"""The Airtime vouchers service: connects hi to Airtime vouchers's API (made by manage.py startintegration)."""
