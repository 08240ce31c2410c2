"""Adapters hide vendors: each external system has one small interface, chosen once from settings."""
