"""qa: offline question answering over footnoted documents.

Pipeline: parse → chunk → embed → index → search → cite; evaluate scores it; ui serves it.
"""

__version__ = "0.1.0"
