"""Networks: DCGAN and MLP generators and discriminators, conditional parts, init, and builders from a ModelConfig."""

from ganlab.nets.build import (
    MAX_PARAMETERS,
    build_discriminator,
    build_generator,
    check_config_size,
    check_size,
)
from ganlab.nets.calibrate import recalibrate_batchnorm
from ganlab.nets.conditional import ClassEmbedding, ProjectionHead
from ganlab.nets.dcgan import DCGANDiscriminator, DCGANGenerator, dcgan_layout
from ganlab.nets.init import count_parameters, init_weights
from ganlab.nets.mlp import MLPDiscriminator, MLPGenerator

__all__ = [
    "MAX_PARAMETERS", "ClassEmbedding", "DCGANDiscriminator", "DCGANGenerator", "MLPDiscriminator", "MLPGenerator",
    "ProjectionHead", "build_discriminator", "build_generator", "check_config_size", "check_size", "count_parameters",
    "dcgan_layout", "init_weights", "recalibrate_batchnorm",
]
