"""Loaders for the shared benchmark and olfaction data: image datasets, odour-response tables and file checks."""

from flymodel.data.connectome import Hemibrain, load_hemibrain
from flymodel.data.files import DATA_ENV_VAR, DataFileError, data_dirs, data_path
from flymodel.data.images import DATASETS, ImageDataset, load_cifar10, load_dataset, load_fashion_mnist, load_mnist
from flymodel.data.protocols import PROTOCOLS, Protocol, Split, get_protocol, stratified_split
from flymodel.data.olfaction import DoorDatabase, OdourResponses, load_door, load_hallem_carlson

__all__ = [
    "DATA_ENV_VAR",
    "DataFileError",
    "data_dirs",
    "data_path",
    "ImageDataset",
    "load_mnist",
    "load_fashion_mnist",
    "load_cifar10",
    "load_dataset",
    "DATASETS",
    "OdourResponses",
    "load_hallem_carlson",
    "DoorDatabase",
    "load_door",
    "Hemibrain",
    "load_hemibrain",
    "Protocol",
    "Split",
    "PROTOCOLS",
    "get_protocol",
    "stratified_split",
]
