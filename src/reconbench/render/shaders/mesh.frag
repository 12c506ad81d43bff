#version 330
// One pass, two targets: colour (RGBA) and geometry (world normal xyz, camera z-depth).
uniform sampler2D u_texture;
uniform bool u_has_texture;
uniform vec4 u_base_color;
uniform mat4 u_camera_from_world;
uniform vec3 u_camera_position;
uniform bool u_lambert;
uniform float u_ambient;
uniform float u_diffuse;
uniform vec3 u_light_world;

in vec3 v_world;
in vec2 v_uv;
in vec4 v_color;

layout(location = 0) out vec4 f_color;
layout(location = 1) out vec4 f_geometry;

void main() {
    // Exact flat triangle normal from screen-space derivatives of the world position,
    // turned toward the camera; the winding then says whether it points outward.
    vec3 n_view = normalize(cross(dFdx(v_world), dFdy(v_world)));
    if (dot(n_view, u_camera_position - v_world) < 0.0) n_view = -n_view;
    vec3 n_outward = gl_FrontFacing ? n_view : -n_view;

    vec4 color = u_base_color * v_color;
    if (u_has_texture) color *= texture(u_texture, vec2(v_uv.x, 1.0 - v_uv.y));
    float shade = u_lambert ? u_ambient + u_diffuse * max(dot(n_view, u_light_world), 0.0) : 1.0;

    f_color = vec4(clamp(color.rgb * shade, 0.0, 1.0), 1.0);
    f_geometry = vec4(n_outward, -(u_camera_from_world * vec4(v_world, 1.0)).z);
}
