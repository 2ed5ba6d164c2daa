"""The station: storage (``store``), log ingest and import (``ingest``), twin patrols run live
(``patrols``), the live feed (``live``), video (``video``, ``webrtc``) and the web service with the
dashboard (``server``). Entry points: ``store.Store``, ``ingest.import_log``, ``server.create_app``.
"""
