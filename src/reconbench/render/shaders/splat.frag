#version 330
// Front-to-back compositing with blend (ONE_MINUS_DST_ALPHA, ONE): each target accumulates
// sum_i x_i * alpha_i * T_i, with T_i = 1 - (alpha accumulated so far).
uniform float u_height;

flat in vec2 v_center;
flat in vec3 v_conic;
flat in vec4 v_color;
flat in float v_depth;
in vec2 v_pixel;

layout(location = 0) out vec4 f_color;  // premultiplied rgb, alpha
layout(location = 1) out vec4 f_depth;  // alpha * depth, -, -, alpha

void main() {
    // The pixel centre, in pixels with y down (gl_FragCoord has y up).
    vec2 d = vec2(gl_FragCoord.x, u_height - gl_FragCoord.y) - v_center;
    float q = v_conic.x * d.x * d.x + 2.0 * v_conic.y * d.x * d.y + v_conic.z * d.y * d.y;
    float alpha = min(0.99, v_color.a * exp(-0.5 * q));
    if (alpha < 1.0 / 255.0) discard;
    f_color = vec4(v_color.rgb * alpha, alpha);
    f_depth = vec4(v_depth * alpha, 0.0, 0.0, alpha);
}
