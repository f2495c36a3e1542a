"""Voicemail: boxes per IVR or per queue, the messages callers leave, and calling them back.

The IVR's voicemail node records the caller (``apps.ivr``); the recording
arrives like any other (``call.recording.saved`` with client_state
``{"recording": "voicemail", "box": id}``) and becomes a message in its box.
"""
