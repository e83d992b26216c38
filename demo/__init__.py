"""Gradio UI of the Seq2Seq Playground: plots (pure plotly), handlers (plain functions), tabs (layout + wiring)."""
