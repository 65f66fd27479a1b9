"""The Airtime vouchers service: connects hi to the Airtime vouchers API (made by manage.py startintegration)."""
