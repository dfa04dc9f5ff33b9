"""pytest fixtures for projects on django-icv-core.

Load them in a ``conftest.py``::

    pytest_plugins = ["icv_core.testing.fixtures"]
"""

from __future__ import annotations
