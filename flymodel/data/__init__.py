"""Loaders of the shared data: image benchmarks, odour responses, the hemibrain connectome and file checks.

Also the papers' retrieval protocols, which split an image benchmark into queries and a database. Three constants
go with the functions: ``DATA_ENV_VAR``, the name of the environment variable that points at the data folder;
``DATASETS``, each image benchmark's name with its loader; and ``PROTOCOLS``, each benchmark's retrieval protocol.

Examples
--------
>>> from flymodel.data import DATA_ENV_VAR, DATASETS, PROTOCOLS
>>> DATA_ENV_VAR
'FLYMODEL_DATA'
>>> sorted(DATASETS), DATASETS["mnist"]().images.shape
(['cifar10', 'fashion_mnist', 'mnist'], (70000, 28, 28))
>>> PROTOCOLS["cifar10"].queries_per_class, PROTOCOLS["cifar10"].metric
(1000, 'mAP@1000')
"""

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
