"""The networks and what runs them: the U-Net (model, model_config), weights on disk (checkpoint), the runtimes
(runtime, torch_runner, openvino_runner) and the device."""
