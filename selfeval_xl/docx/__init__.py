"""The Word report: ``template`` builds the docxtpl template, ``report`` fills it and places
the attachment tables, ``package`` saves the document reproducibly."""
