"""Inference: running a trained network, not training it (seed 002's inference engines).

mode        training mode against inference mode: a check that a forward pass is a fixed function
onnx_graph  a course_lib model written as an ONNX graph (onnx.helper), for any ONNX runtime
engines     the same model on NumPy, torch and ONNX Runtime, timed by batch size
int8        post-training int8 quantisation: by hand, and with onnxruntime.quantization

The modules load onnx, onnxruntime and torch only when they are used.
"""
