"""Files the tool reads and writes outside the workbook and report formats: ``outputs`` (every
output written atomically, with the user's permissions, OS errors in words), ``libreoffice``
(conversions and recalculation in an isolated profile), ``roster`` (the coordinator's roster)."""
