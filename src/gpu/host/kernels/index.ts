// CPU ports of elementwise (the GELU tangent too), fill, copy, transpose, reduce and softmax, by
// shader name (see src/gpu/host/host_kernel.ts).
import type { HostKernelTable } from "../host_kernel.ts";
import type { HostSplitTable } from "../pool/split.ts";
import { copyStrided } from "./copy_strided.ts";
import { binaryAdd, binaryGeluBackward } from "./elementwise_binary.ts";
import { elementwiseGeluTangentKernels } from "./elementwise_gelu_tangent.ts";
import { inPlaceGeluForward, inPlaceScale } from "./elementwise_in_place.ts";
import { unaryGeluForward, unaryGeluForwardPart, unaryScale } from "./elementwise_unary.ts";
import {
  updateAxpy,
  updateGeluBackwardInPlace,
  updateGeluBackwardInPlacePart,
} from "./elementwise_update.ts";
import { fill } from "./fill.ts";
import { reduceCols, reduceColsPart } from "./reduce_cols.ts";
import { reduceDot } from "./reduce_dot.ts";
import { reduceRowsPerInvocation, reduceRowsPerWorkgroup } from "./reduce_rows.ts";
import { softmaxRowPerInvocation, softmaxRowPerWorkgroup } from "./softmax.ts";
import { transpose } from "./transpose.ts";

export const gpuHostKernels: HostKernelTable = {
  "copy_strided": copyStrided,
  "elementwise_binary#add": binaryAdd,
  "elementwise_binary#gelu_backward": binaryGeluBackward,
  "elementwise_in_place#scale": inPlaceScale,
  "elementwise_in_place#gelu_forward": inPlaceGeluForward,
  "elementwise_unary#scale": unaryScale,
  "elementwise_unary#gelu_forward": unaryGeluForward,
  "elementwise_update#axpy": updateAxpy,
  "elementwise_update#gelu_backward_in_place": updateGeluBackwardInPlace,
  "fill": fill,
  "reduce_cols": reduceCols,
  "reduce_dot": reduceDot,
  "reduce_rows#row_per_invocation": reduceRowsPerInvocation,
  "reduce_rows#row_per_workgroup": reduceRowsPerWorkgroup,
  "softmax#row_per_invocation": softmaxRowPerInvocation,
  "softmax#row_per_workgroup": softmaxRowPerWorkgroup,
  "transpose": transpose,
  ...elementwiseGeluTangentKernels,
};

/** The ports that also run in parts, on several threads (../pool/). */
export const gpuSplitKernels: HostSplitTable = {
  "elementwise_unary#gelu_forward": unaryGeluForwardPart,
  "elementwise_update#gelu_backward_in_place": updateGeluBackwardInPlacePart,
  "reduce_cols": reduceColsPart,
};
