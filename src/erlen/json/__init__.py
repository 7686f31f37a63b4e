"""JSON support: the application JSON provider and the tagged session serializer."""

from __future__ import annotations
