"""The model zoo: every architecture of the course, built from tables, behind one registry."""

from cnnlab.models.pretrained import load_pretrained
from cnnlab.models.registry import ModelInfo, create_model, list_models, model_info, register

__all__ = ["ModelInfo", "create_model", "list_models", "load_pretrained", "model_info", "register"]
