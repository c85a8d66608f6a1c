// Anchors the shared precompiled header (core/pch/TorchPch.h).
