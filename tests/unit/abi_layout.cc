// The ABI layout test as C++11: C++ must lay the structs out as C does.
#include "abi_layout.c"
