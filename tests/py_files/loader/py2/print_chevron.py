import sys
print >>sys.stderr, "starting"
