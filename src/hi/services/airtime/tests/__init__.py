"""Tests of the Airtime vouchers service: the framework's contract against its simulator, and its own behaviour."""
