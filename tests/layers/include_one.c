/*
 * One #include, of the header TE_LAYER_HEADER, compiled with the include path of one
 * layer's library (tests/CMakeLists.txt, "Layers"): an include the wrong way must not
 * compile, one the right way must.
 */
#include TE_LAYER_HEADER

int te_layer_include_one;
