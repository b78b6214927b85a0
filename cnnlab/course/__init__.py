"""The course as a whole: the manifest of topics, running notebooks, generating exercises.

``manifest`` (the one list of topics), ``run`` (execute notebooks, render handouts),
``exercises`` (student notebooks from solution notebooks). Submodules load on first use.
"""

from __future__ import annotations
