"""The web chat: ``chat`` (loaded state), ``render`` (escaped HTML), ``ui`` + ``static/`` (Gradio)."""
