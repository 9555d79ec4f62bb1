function ok() { return 1 }

var table = makeTable()   // not defined anywhere
