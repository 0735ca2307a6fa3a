/*
 * onnx_build.h - a small ONNX model writer for tests and fuzz seeds.
 *
 * Encodes a ModelProto in the protobuf wire format (varints, length-delimited fields, nested
 * messages) without any protobuf library: opset import, graph inputs (float, with dims),
 * outputs, float/int64 initializers (raw_data), and nodes with inputs, outputs and attributes.
 * Repeated scalars are written unpacked, as the ONNX tools do (proto2), unless ob_set_packed().
 *
 *     ob_model *b = ob_new(13);
 *     int64_t d[4] = {1, 3, 8, 8};
 *     ob_input(b, "x", 4, d);
 *     ob_node(b, "Relu", "r", "x", "y");
 *     ob_output(b, "y");
 *     size_t len;
 *     unsigned char *bytes = ob_finish(b, &len);   // malloc'd; free() it
 *
 * Lists of node inputs/outputs are comma-separated names; an empty item is an omitted optional
 * input ("x,,b"). Attribute calls apply to the node added last. Out of memory aborts (tests).
 */
#ifndef FAIRVISIT_TEST_ONNX_BUILD_H
#define FAIRVISIT_TEST_ONNX_BUILD_H

#include <stddef.h>
#include <stdint.h>

typedef struct ob_model ob_model;

/* ONNX TensorProto data types used by tests. */
enum { OB_FLOAT = 1, OB_INT32 = 6, OB_INT64 = 7, OB_DOUBLE = 11 };

/* A model importing the default domain at `opset` (opset <= 0: no opset_import at all). */
ob_model *ob_new(int opset);
/* Adds another opset_import entry (e.g. a custom domain). */
void ob_opset(ob_model *b, const char *domain, int version);
/* Write repeated numbers packed (proto3 style) from now on. */
void ob_set_packed(ob_model *b, int packed);

/* Graph input of float32 elements; a negative dim is written as a symbolic dim_param. */
void ob_input(ob_model *b, const char *name, int ndim, const int64_t *dims);
/* Graph input with any element type; ndim < 0 writes no shape. */
void ob_input_typed(ob_model *b, const char *name, int elem_type, int ndim, const int64_t *dims);
void ob_output(ob_model *b, const char *name);

/* Initializers with raw_data; ob_init_raw writes exactly the bytes given (any dtype). */
void ob_init_float(ob_model *b, const char *name, int ndim, const int64_t *dims, const float *v);
void ob_init_int64(ob_model *b, const char *name, int ndim, const int64_t *dims, const int64_t *v);
void ob_init_raw(ob_model *b, const char *name, int dtype, int ndim, const int64_t *dims,
                 const void *raw, size_t raw_len);

/* Starts a node. `name` may be NULL (no name field). */
void ob_node(ob_model *b, const char *op_type, const char *name, const char *inputs,
             const char *outputs);
void ob_node_domain(ob_model *b, const char *domain);

void ob_attr_int(ob_model *b, const char *name, int64_t v);
void ob_attr_float(ob_model *b, const char *name, float v);
void ob_attr_ints(ob_model *b, const char *name, int n, const int64_t *v);
void ob_attr_floats(ob_model *b, const char *name, int n, const float *v);
void ob_attr_string(ob_model *b, const char *name, const char *s);
void ob_attr_tensor_float(ob_model *b, const char *name, int ndim, const int64_t *dims,
                          const float *v);
void ob_attr_tensor_int64(ob_model *b, const char *name, int ndim, const int64_t *dims,
                          const int64_t *v);

/* Encodes the model, frees the builder, returns a malloc'd buffer of *len bytes. */
unsigned char *ob_finish(ob_model *b, size_t *len);

/* Writes len bytes to path; 0 on success. */
int ob_write_file(const char *path, const unsigned char *data, size_t len);

#endif
