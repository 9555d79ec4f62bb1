import numpy.oldnumeric as onum
