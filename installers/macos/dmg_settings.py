"""dmgbuild settings: the app and a link to Applications, side by side (drag to install).

dmgbuild -s installers/macos/dmg_settings.py -D app=dist/Quantdesk.app Quantdesk OUT.dmg
"""

import os.path

# dmgbuild runs this file with `defines` (the -D values) in its globals.
application = defines.get("app", "dist/Quantdesk.app")  # noqa: F821
appname = os.path.basename(application)

format = "UDZO"  # noqa: A001 - dmgbuild's setting name
filesystem = "HFS+"
files = [application]
symlinks = {"Applications": "/Applications"}
icon_locations = {appname: (140, 120), "Applications": (500, 120)}
window_rect = ((100, 100), (640, 300))
default_view = "icon-view"
icon_size = 128
