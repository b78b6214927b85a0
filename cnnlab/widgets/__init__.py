"""Notebook widgets, one module each: Part I's correlation stepper, conv-arithmetic, pooling and
feature explorers; Part II's LeNet C3 table, augmentation, VGG configuration, mlpconv,
inception-module designer, DenseNet and MobileNet explorers; Part III's gradient-flow,
degradation and model-comparison explorers; Part IV's transfer explorer.

Each widget has a pure state function (testable without a browser) and a drawing function that
returns a static matplotlib figure (for handouts), beside the ``ipywidgets`` container itself,
built on :class:`cnnlab.widgets._base.Explorer` (controls -> state -> figure, one error banner).
"""

from __future__ import annotations

from cnnlab.widgets.arithmetic import (
    ArithmeticExplorer,
    ArithmeticState,
    arithmetic_explorer,
    arithmetic_state,
    draw_arithmetic,
)
from cnnlab.widgets.augmentation import (
    AugmentationExplorer,
    AugmentationState,
    augmentation_explorer,
    augmentation_state,
    draw_augmentation,
)
from cnnlab.widgets.correlation import (
    CorrelationStepper,
    StepState,
    correlation_step,
    correlation_stepper,
    draw_correlation_step,
)
from cnnlab.widgets.degradation_explorer import (
    DegradationExplorer,
    DegradationState,
    degradation_explorer,
    degradation_state,
    draw_degradation,
)
from cnnlab.widgets.densenet_explorer import (
    DenseNetExplorer,
    DenseNetState,
    densenet_explorer,
    densenet_state,
    draw_densenet,
)
from cnnlab.widgets.features import (
    FeatureExplorer,
    FeatureState,
    draw_features,
    feature_explorer,
    feature_state,
)
from cnnlab.widgets.gradient_flow import (
    GradientFlowExplorer,
    GradientFlowState,
    draw_gradient_flow,
    gradient_flow_explorer,
    gradient_flow_state,
)
from cnnlab.widgets.inception_designer import (
    InceptionDesigner,
    InceptionState,
    draw_inception,
    inception_designer,
    inception_state,
)
from cnnlab.widgets.lenet_c3 import C3Explorer, C3State, c3_explorer, c3_state, draw_c3_table
from cnnlab.widgets.mlpconv import (
    MlpconvExplorer,
    MlpconvState,
    draw_mlpconv,
    mlpconv_explorer,
    mlpconv_state,
)
from cnnlab.widgets.mobilenet_explorer import (
    MobileNetExplorer,
    MobileNetState,
    draw_mobilenet,
    mobilenet_explorer,
    mobilenet_state,
)
from cnnlab.widgets.model_comparison import (
    ComparisonState,
    ModelComparisonExplorer,
    comparison_state,
    draw_comparison,
    model_comparison_explorer,
)
from cnnlab.widgets.pooling import (
    PoolingExplorer,
    PoolingState,
    default_image,
    draw_pooling,
    pooling_explorer,
    pooling_state,
)
from cnnlab.widgets.transfer_explorer import (
    TransferExplorer,
    TransferState,
    draw_transfer,
    transfer_explorer,
    transfer_state,
)
from cnnlab.widgets.vgg_picker import draw_vgg, vgg_picker, vgg_state

__all__ = [
    "ArithmeticExplorer",
    "ArithmeticState",
    "CorrelationStepper",
    "FeatureExplorer",
    "FeatureState",
    "PoolingExplorer",
    "PoolingState",
    "StepState",
    "arithmetic_explorer",
    "arithmetic_state",
    "correlation_step",
    "correlation_stepper",
    "default_image",
    "draw_arithmetic",
    "draw_correlation_step",
    "draw_features",
    "feature_explorer",
    "feature_state",
    "draw_pooling",
    "pooling_explorer",
    "pooling_state",
    "AugmentationExplorer",
    "AugmentationState",
    "augmentation_explorer",
    "augmentation_state",
    "draw_augmentation",
    "C3Explorer",
    "C3State",
    "c3_explorer",
    "c3_state",
    "draw_c3_table",
    "MlpconvExplorer",
    "MlpconvState",
    "draw_mlpconv",
    "mlpconv_explorer",
    "mlpconv_state",
    "draw_vgg",
    "vgg_picker",
    "vgg_state",
    "DenseNetExplorer",
    "DenseNetState",
    "densenet_explorer",
    "densenet_state",
    "draw_densenet",
    "InceptionDesigner",
    "InceptionState",
    "draw_inception",
    "inception_designer",
    "inception_state",
    "MobileNetExplorer",
    "MobileNetState",
    "draw_mobilenet",
    "mobilenet_explorer",
    "mobilenet_state",
    "GradientFlowExplorer",
    "GradientFlowState",
    "draw_gradient_flow",
    "gradient_flow_explorer",
    "gradient_flow_state",
    "DegradationExplorer",
    "DegradationState",
    "degradation_explorer",
    "degradation_state",
    "draw_degradation",
    "ModelComparisonExplorer",
    "ComparisonState",
    "comparison_state",
    "draw_comparison",
    "model_comparison_explorer",
    "TransferExplorer",
    "TransferState",
    "draw_transfer",
    "transfer_explorer",
    "transfer_state",
]
