#!/usr/bin/python3
"""Prints an image's version resource as pefile decodes it, one fact a line:
  fixed FIELD 0xVALUE        (VS_FIXEDFILEINFO)
  table KEY                  (a StringTable of StringFileInfo)
  string KEY=VALUE           (a String of the table above, in resource order)
  translation 0xLANG 0xCP    (VarFileInfo\\Translation)
  none                       (no version resource)"""
import sys

import pefile

pe = pefile.PE(sys.argv[1], fast_load=True)
pe.parse_data_directories(directories=[pefile.DIRECTORY_ENTRY["IMAGE_DIRECTORY_ENTRY_RESOURCE"]])
if not hasattr(pe, "VS_FIXEDFILEINFO") and not getattr(pe, "FileInfo", None):
    print("none")
    sys.exit(0)
for fixed in getattr(pe, "VS_FIXEDFILEINFO", [])[:1]:
    for field in ("Signature", "StrucVersion", "FileVersionMS", "FileVersionLS", "ProductVersionMS",
                  "ProductVersionLS", "FileFlagsMask", "FileFlags", "FileOS", "FileType", "FileSubtype",
                  "FileDateMS", "FileDateLS"):
        print("fixed %s %#x" % (field, getattr(fixed, field)))
for info in (getattr(pe, "FileInfo", None) or [[]])[0]:
    if info.Key == b"StringFileInfo":
        for table in info.StringTable:
            print("table %s" % table.LangID.decode())
            for key, value in table.entries.items():
                print("string %s=%s" % (key.decode("utf-8"), value.decode("utf-8")))
    elif info.Key == b"VarFileInfo":
        for var in info.Var:
            for key, value in var.entry.items():
                if key == b"Translation":
                    for pair in value.split(","):
                        lang, cp = pair.split()
                        print("translation %s %s" % (lang, cp))
