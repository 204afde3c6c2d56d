"""Text-to-speech: voices behind one small interface (``base.TextToSpeech``), registered in
``Components.voices`` through the plugin hook. The explicit audio label speaks its notice with
them; the video studio's voice-over will too."""
