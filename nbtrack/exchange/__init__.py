"""Carrying runs in and out of a store: Parquet export and import, MLflow import."""
