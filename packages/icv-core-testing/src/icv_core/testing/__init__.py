"""Test kit for projects built on django-icv-core: factories, fixtures, helpers."""
