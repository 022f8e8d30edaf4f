"""logodet: custom logo detectors from a handful of artwork files."""

from logodet.types import Annotation, DetectionDataset, Detections, ImageRecord

__version__ = "0.1.0"
__all__ = ["Annotation", "DetectionDataset", "Detections", "ImageRecord", "__version__"]
