#version 330
uniform mat4 u_clip_from_world;
uniform mat4 u_camera_from_world;

in vec3 in_position;
in vec2 in_uv;
in vec4 in_color;

out vec3 v_world;
out vec3 v_camera;
out vec2 v_uv;
out vec4 v_color;

void main() {
    v_world = in_position;
    v_camera = (u_camera_from_world * vec4(in_position, 1.0)).xyz;
    v_uv = in_uv;
    v_color = in_color;
    gl_Position = u_clip_from_world * vec4(in_position, 1.0);
}
